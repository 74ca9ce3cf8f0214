-- bench/scale_http.sh, the hand-written side: the tables of the Cot side as a
-- DBA would write them for PostgREST, with the same access rules (tenant
-- read, tenant create, owner update/delete; admins all rows of the tenant),
-- exposed directly in schema hand. Rows are copied from the Cot side with
-- the same ids, owners and timestamps.
CREATE ROLE hand_anon NOLOGIN;
CREATE ROLE hand_user NOLOGIN;
CREATE ROLE hand_admin NOLOGIN;
CREATE ROLE hand_owner NOLOGIN;
CREATE SCHEMA hand_auth;
CREATE SCHEMA hand AUTHORIZATION hand_owner;
GRANT USAGE ON SCHEMA hand, hand_auth TO hand_anon, hand_user, hand_admin;

-- Claim helpers, inlinable (SQL, STABLE, no SET clause), as Supabase's
-- auth.uid() is written; policies call them as (SELECT ...), once per
-- statement.
CREATE FUNCTION hand_auth.tenant() RETURNS text LANGUAGE sql STABLE
AS $$ SELECT nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'tenant' $$;
CREATE FUNCTION hand_auth.sub() RETURNS text LANGUAGE sql STABLE
AS $$ SELECT nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub' $$;

-- created_at/updated_at kept by the server, owner_id the sub claim of the
-- inserting user and never changed, the id never changed.
CREATE FUNCTION hand_auth.stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.created_at := now();
    NEW.owner_id := hand_auth.sub();
  ELSE
    IF NEW.id IS DISTINCT FROM OLD.id THEN
      RAISE EXCEPTION 'the id of a record cannot change' USING ERRCODE = '23514';
    END IF;
    NEW.created_at := OLD.created_at;
    NEW.owner_id := OLD.owner_id;
  END IF;
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

CREATE TABLE hand.customers (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (char_length(name) <= 200),
  email text UNIQUE,
  city text CHECK (char_length(city) <= 100),
  tier text DEFAULT 'bronze' CHECK (tier IN ('bronze', 'silver', 'gold')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  owner_id text
);
CREATE TABLE hand.orders (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  title text NOT NULL CHECK (char_length(title) <= 200),
  status text DEFAULT 'draft' CHECK (status IN ('draft', 'paid', 'shipped')),
  total numeric(12, 2) CHECK (total >= 0),
  quantity integer CHECK (quantity >= 1),
  note text,
  customer_id uuid REFERENCES hand.customers (id) ON DELETE RESTRICT,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  owner_id text
);
CREATE INDEX ON hand.orders (customer_id);
CREATE INDEX ON hand.orders (status);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['customers', 'orders'] LOOP
    EXECUTE format('CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON hand.%I FOR EACH ROW EXECUTE FUNCTION hand_auth.stamp()', t);
    EXECUTE format('ALTER TABLE hand.%I OWNER TO hand_owner', t);
    EXECUTE format('ALTER TABLE hand.%I ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY read_tenant ON hand.%I FOR SELECT TO hand_user, hand_admin
      USING ((SELECT hand_auth.tenant()) = ''hand'')', t);
    EXECUTE format('CREATE POLICY create_tenant ON hand.%I FOR INSERT TO hand_user, hand_admin
      WITH CHECK ((SELECT hand_auth.tenant()) = ''hand'')', t);
    EXECUTE format('CREATE POLICY update_own ON hand.%I FOR UPDATE TO hand_user
      USING ((SELECT hand_auth.tenant()) = ''hand'' AND owner_id = (SELECT hand_auth.sub()))
      WITH CHECK ((SELECT hand_auth.tenant()) = ''hand'' AND owner_id = (SELECT hand_auth.sub()))', t);
    EXECUTE format('CREATE POLICY update_any ON hand.%I FOR UPDATE TO hand_admin
      USING ((SELECT hand_auth.tenant()) = ''hand'') WITH CHECK ((SELECT hand_auth.tenant()) = ''hand'')', t);
    EXECUTE format('CREATE POLICY delete_own ON hand.%I FOR DELETE TO hand_user
      USING ((SELECT hand_auth.tenant()) = ''hand'' AND owner_id = (SELECT hand_auth.sub()))', t);
    EXECUTE format('CREATE POLICY delete_any ON hand.%I FOR DELETE TO hand_admin
      USING ((SELECT hand_auth.tenant()) = ''hand'')', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON hand.%I TO hand_user, hand_admin', t);
  END LOOP;
END
$$;

-- The same rows: copied without firing the triggers (their ids, owners and
-- timestamps are kept).
SET session_replication_role = replica;
INSERT INTO hand.customers (id, name, email, city, tier, owner_id, created_at, updated_at)
SELECT id, name, email, city, tier, owner_id, created_at, updated_at FROM tenant_acme.customers;
INSERT INTO hand.orders (id, title, status, total, quantity, note, customer_id, owner_id, created_at, updated_at)
SELECT id, title, status, total, quantity, note, customer_id, owner_id, created_at, updated_at FROM tenant_acme.orders;
RESET session_replication_role;
ANALYZE hand.customers, hand.orders;
