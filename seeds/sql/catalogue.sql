-- The demo's source: a movie catalogue, filled by seeds/catalogue.ts (npm run db:seed). Demo data,
-- not a product migration: applied (idempotently) by the seed, the local stack and the tests.
CREATE SCHEMA IF NOT EXISTS content;

-- Every change stamps modified with the transaction's start time (now()), which is what the
-- incremental horizon relies on: a row still uncommitted carries a timestamp no older than
-- the start of its transaction.
CREATE OR REPLACE FUNCTION content.touch_modified() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.modified := now();
  RETURN NEW;
END $$;

CREATE TABLE IF NOT EXISTS content.film_work (
  id            uuid PRIMARY KEY,
  title         text NOT NULL,
  description   text,
  creation_date date,
  rating        numeric(3, 1) CHECK (rating BETWEEN 0 AND 10),
  type          text NOT NULL CHECK (type IN ('movie', 'tv_show')),
  created       timestamptz NOT NULL DEFAULT now(),
  modified      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS film_work_modified_id ON content.film_work (modified, id);

CREATE TABLE IF NOT EXISTS content.genre (
  id          uuid PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  description text,
  created     timestamptz NOT NULL DEFAULT now(),
  modified    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS content.person (
  id        uuid PRIMARY KEY,
  full_name text NOT NULL,
  created   timestamptz NOT NULL DEFAULT now(),
  modified  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS content.genre_film_work (
  id           uuid PRIMARY KEY,
  genre_id     uuid NOT NULL REFERENCES content.genre (id) ON DELETE CASCADE,
  film_work_id uuid NOT NULL REFERENCES content.film_work (id) ON DELETE CASCADE,
  created      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (film_work_id, genre_id)
);

CREATE TABLE IF NOT EXISTS content.person_film_work (
  id           uuid PRIMARY KEY,
  person_id    uuid NOT NULL REFERENCES content.person (id) ON DELETE CASCADE,
  film_work_id uuid NOT NULL REFERENCES content.film_work (id) ON DELETE CASCADE,
  role         text NOT NULL CHECK (role IN ('actor', 'director', 'writer')),
  created      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (film_work_id, person_id, role)
);
CREATE INDEX IF NOT EXISTS person_film_work_person ON content.person_film_work (person_id);
CREATE INDEX IF NOT EXISTS genre_film_work_genre ON content.genre_film_work (genre_id);

CREATE OR REPLACE TRIGGER film_work_touch BEFORE UPDATE ON content.film_work
  FOR EACH ROW EXECUTE FUNCTION content.touch_modified();
CREATE OR REPLACE TRIGGER genre_touch BEFORE UPDATE ON content.genre
  FOR EACH ROW EXECUTE FUNCTION content.touch_modified();
CREATE OR REPLACE TRIGGER person_touch BEFORE UPDATE ON content.person
  FOR EACH ROW EXECUTE FUNCTION content.touch_modified();
