-- The demo's reporting database (connection `warehouse`): the denormalised film dimension that
-- the demo pipelines fill from the catalogue. Applied by the local stack (tools/local/demo-databases.ts).
CREATE SCHEMA IF NOT EXISTS analytics;

CREATE TABLE IF NOT EXISTS analytics.film_dim (
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
