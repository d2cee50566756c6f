-- Nexmark q22: the directories of the bid's url (Flink's text: SPLIT_INDEX
-- counts from 0, and the empty piece between the two slashes of https://).
SELECT
    auction, bidder, price, channel,
    SPLIT_INDEX(url, '/', 3) AS dir1,
    SPLIT_INDEX(url, '/', 4) AS dir2,
    SPLIT_INDEX(url, '/', 5) AS dir3 FROM bid
INTO file('q22.jsonl', format => 'json');
