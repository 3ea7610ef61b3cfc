CREATE TABLE orders (
    id      serial PRIMARY KEY,
    user_id int NOT NULL REFERENCES users (id),
    note    text DEFAULT 'none; really'
);
CREATE FUNCTION order_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM orders; $$;
INSERT INTO orders (user_id) VALUES (1), (1), (2);
