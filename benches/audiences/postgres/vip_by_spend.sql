-- Hand-written: 1,000,000 won or more spent in the last 365 days. $1 = now.
SELECT c.id FROM customers c
WHERE c.id IN (SELECT o.customer_id FROM orders o WHERE o.ordered_at > $1::timestamptz - interval '365 days' AND o.ordered_at <= $1::timestamptz
               GROUP BY o.customer_id HAVING SUM(o.amount) >= 1000000)
ORDER BY c.id
