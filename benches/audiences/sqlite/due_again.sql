-- Hand-written: whole days since the last order >= the customer's mean
-- interval between orders (2+ orders). ?1 = now.
SELECT c.id FROM customers c
WHERE c.id IN (SELECT o.customer_id FROM orders o WHERE o.ordered_at <= ?1 GROUP BY o.customer_id
               HAVING COUNT(*) >= 2
                  AND CAST(julianday(?1) - julianday(MAX(o.ordered_at)) AS INTEGER)
                      >= (julianday(MAX(o.ordered_at)) - julianday(MIN(o.ordered_at))) / (COUNT(*) - 1))
ORDER BY c.id
