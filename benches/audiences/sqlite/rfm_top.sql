-- Hand-written: recency and monetary scores 4-5 over the last 365 days, each
-- 1 + floor(5 * b / n) (b = buyers strictly lower, n = buyers; ties score equal). ?1 = now.
WITH scores AS (
  SELECT o.customer_id,
         1 + 5 * (RANK() OVER (ORDER BY MAX(o.ordered_at)) - 1) / COUNT(*) OVER () AS r,
         1 + 5 * (RANK() OVER (ORDER BY SUM(o.amount)) - 1) / COUNT(*) OVER () AS m
  FROM orders o WHERE o.ordered_at > datetime(?1, '-365 days') AND o.ordered_at <= ?1
  GROUP BY o.customer_id)
SELECT c.id FROM customers c
WHERE c.id IN (SELECT customer_id FROM scores WHERE r >= 4 AND m >= 4)
ORDER BY c.id
