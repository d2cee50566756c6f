-- Nexmark q2: selection (Flink's text: auction % 123 = 0).
SELECT auction, price FROM bid WHERE auction % 123 = 0 INTO file('q2.jsonl', format => 'json');
