-- Hand-written: lifecycle(purchase) = at_risk with the shop's policy
-- (new 30d, active 1.5x, at_risk 3x, single buyers 60d / 150d). $1 = now.
SELECT c.id FROM customers c
WHERE c.id IN (
  SELECT customer_id FROM (
    SELECT o.customer_id, COUNT(*) AS n, MIN(o.ordered_at) AS first_at,
           FLOOR(EXTRACT(EPOCH FROM ($1::timestamptz - MAX(o.ordered_at))) / 86400.0) AS d,
           EXTRACT(EPOCH FROM (MAX(o.ordered_at) - MIN(o.ordered_at))) / 86400.0 / NULLIF(COUNT(*) - 1, 0) AS i
    FROM orders o WHERE o.ordered_at <= $1::timestamptz GROUP BY o.customer_id
  ) s
  WHERE first_at <= $1::timestamptz - interval '30 days'
    AND NOT ((n >= 2 AND d <= 1.5 * i) OR (n = 1 AND d <= 60))
    AND ((n >= 2 AND d <= 3 * i) OR (n = 1 AND d <= 150)))
ORDER BY c.id
