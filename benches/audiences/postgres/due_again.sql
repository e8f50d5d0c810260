-- Hand-written: whole days since the last order >= the customer's mean
-- interval between orders (2+ orders). $1 = now.
SELECT c.id FROM customers c
WHERE c.id IN (SELECT o.customer_id FROM orders o WHERE o.ordered_at <= $1::timestamptz GROUP BY o.customer_id
               HAVING COUNT(*) >= 2
                  AND FLOOR(EXTRACT(EPOCH FROM ($1::timestamptz - MAX(o.ordered_at))) / 86400.0)
                      >= EXTRACT(EPOCH FROM (MAX(o.ordered_at) - MIN(o.ordered_at))) / 86400.0 / (COUNT(*) - 1))
ORDER BY c.id
