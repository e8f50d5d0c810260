-- Hand-written: recency and monetary quintiles 4-5 over the last 365 days. $1 = now.
WITH scores AS (
  SELECT o.customer_id,
         NTILE(5) OVER (ORDER BY MAX(o.ordered_at), o.customer_id) AS r,
         NTILE(5) OVER (ORDER BY SUM(o.amount), o.customer_id) AS m
  FROM orders o WHERE o.ordered_at > $1::timestamptz - interval '365 days' AND o.ordered_at <= $1::timestamptz
  GROUP BY o.customer_id)
SELECT c.id FROM customers c
WHERE c.id IN (SELECT customer_id FROM scores WHERE r >= 4 AND m >= 4)
ORDER BY c.id
