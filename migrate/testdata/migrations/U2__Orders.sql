DROP FUNCTION order_count();
DROP TABLE orders;
