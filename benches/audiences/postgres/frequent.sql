-- Hand-written: 3 or more orders in the last 90 days. $1 = now.
SELECT c.id FROM customers c
WHERE c.id IN (SELECT o.customer_id FROM orders o WHERE o.ordered_at > $1::timestamptz - interval '90 days' AND o.ordered_at <= $1::timestamptz
               GROUP BY o.customer_id HAVING COUNT(*) >= 3)
ORDER BY c.id
