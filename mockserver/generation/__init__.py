"""From a fixture file to the first world: the file read strictly and validated into the world's
specs, which the world's own generator then builds; the fixture's JSON Schema; export."""
