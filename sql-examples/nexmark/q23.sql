-- Nexmark q23 (Flink's suite, not in the original): every bid with its
-- bidder's person record and every auction the bidder opened as a seller,
-- a three-way join of unbounded streams on the key alone.  The planner
-- joins bid and person first (a join of two streams whose rows feed
-- another) and that join's rows with auction; inner joins of append-only
-- streams are append-only, each result row comes once, whichever of its
-- three events came last.  All three sides are kept (SET state_ttl bounds
-- them).
SELECT bidder,
       price,
       channel,
       url,
       B.extra    AS bid_extra,

       P.id       AS person_id,
       name,
       emailAddress,
       creditCard,
       city,
       state,
       P.extra    AS person_extra,
       itemName,

       description,
       initialBid,
       reserve,
       A.dateTime AS auction_dateTime,
       expires,
       seller,
       category,
       A.extra    AS auction_extra
FROM bid B
         JOIN
     person P ON P.id = B.bidder
         JOIN
     auction A ON A.seller = B.bidder
INTO file('q23.jsonl', format => 'json');
