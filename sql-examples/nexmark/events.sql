-- Nexmark events for the queries q*.sql: one JSON line per event, made by
-- gen.py (python3 sql-examples/nexmark/gen.py nexmark.jsonl 1000000
-- --persons persons.jsonl).  event_type: 0 person, 1 auction, 2 bid.
-- Times are milliseconds; the watermark allows 4 s of lateness, as the
-- Nexmark DDL does.
CREATE STREAM events (event_type INTEGER, id INTEGER, name TEXT, emailAddress TEXT,
    creditCard TEXT, city TEXT, state TEXT, itemName TEXT, description TEXT,
    initialBid INTEGER, reserve INTEGER, expires INTEGER, seller INTEGER, category INTEGER,
    auction INTEGER, bidder INTEGER, price INTEGER, channel TEXT, url TEXT,
    dateTime INTEGER, extra TEXT)
  FROM file('nexmark.jsonl', format => 'json')
  WATERMARK dateTime - INTERVAL '4' SECOND;
CREATE STREAM bid AS
  SELECT auction, bidder, price, channel, url, dateTime, extra FROM events WHERE event_type = 2;
CREATE STREAM auction AS
  SELECT id, itemName, description, initialBid, reserve, dateTime, expires, seller, category, extra
  FROM events WHERE event_type = 1;
CREATE STREAM person AS
  SELECT id, name, emailAddress, creditCard, city, state, dateTime, extra
  FROM events WHERE event_type = 0;
