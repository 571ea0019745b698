-- Demo source: a movie catalogue. Filled by seeds/ (npm run db:seed).
CREATE SCHEMA IF NOT EXISTS content;

-- Every change stamps modified with the transaction's start time (now()), which is what the
-- incremental horizon relies on: a row still uncommitted carries a timestamp no older than
-- the start of its transaction.
CREATE FUNCTION content.touch_modified() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.modified := now();
  RETURN NEW;
END $$;

CREATE TABLE content.film_work (
  id            uuid PRIMARY KEY,
  title         text NOT NULL,
  description   text,
  creation_date date,
  rating        numeric(3, 1) CHECK (rating BETWEEN 0 AND 10),
  type          text NOT NULL CHECK (type IN ('movie', 'tv_show')),
  created       timestamptz NOT NULL DEFAULT now(),
  modified      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX film_work_modified_id ON content.film_work (modified, id);

CREATE TABLE content.genre (
  id          uuid PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  description text,
  created     timestamptz NOT NULL DEFAULT now(),
  modified    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE content.person (
  id        uuid PRIMARY KEY,
  full_name text NOT NULL,
  created   timestamptz NOT NULL DEFAULT now(),
  modified  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE content.genre_film_work (
  id           uuid PRIMARY KEY,
  genre_id     uuid NOT NULL REFERENCES content.genre (id) ON DELETE CASCADE,
  film_work_id uuid NOT NULL REFERENCES content.film_work (id) ON DELETE CASCADE,
  created      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (film_work_id, genre_id)
);

CREATE TABLE content.person_film_work (
  id           uuid PRIMARY KEY,
  person_id    uuid NOT NULL REFERENCES content.person (id) ON DELETE CASCADE,
  film_work_id uuid NOT NULL REFERENCES content.film_work (id) ON DELETE CASCADE,
  role         text NOT NULL CHECK (role IN ('actor', 'director', 'writer')),
  created      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (film_work_id, person_id, role)
);
CREATE INDEX person_film_work_person ON content.person_film_work (person_id);
CREATE INDEX genre_film_work_genre ON content.genre_film_work (genre_id);

CREATE TRIGGER film_work_touch BEFORE UPDATE ON content.film_work
  FOR EACH ROW EXECUTE FUNCTION content.touch_modified();
CREATE TRIGGER genre_touch BEFORE UPDATE ON content.genre
  FOR EACH ROW EXECUTE FUNCTION content.touch_modified();
CREATE TRIGGER person_touch BEFORE UPDATE ON content.person
  FOR EACH ROW EXECUTE FUNCTION content.touch_modified();

-- Demo target: the denormalised film dimension filled by the demo pipelines.
CREATE SCHEMA IF NOT EXISTS analytics;

CREATE TABLE analytics.film_dim (
  film_id       uuid PRIMARY KEY,
  title         text NOT NULL,
  description   text,
  rating        numeric(3, 1),
  type          text NOT NULL,
  creation_date date,
  genres        text[] NOT NULL DEFAULT '{}',
  actors        text[] NOT NULL DEFAULT '{}',
  directors     text[] NOT NULL DEFAULT '{}',
  writers       text[] NOT NULL DEFAULT '{}',
  modified      timestamptz NOT NULL
);
