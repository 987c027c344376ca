"""From a WVS file to dataset rows: codebook facts, the file reader, profiles, the consensus filter, prompts,
the row schema, dataset folders and seeded row samples. No torch."""
