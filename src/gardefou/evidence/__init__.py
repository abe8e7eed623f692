"""Evidence that holds up: encrypted content-addressed blobs, chain of custody, legal holds, and
an append-only RFC 9162 Merkle log with signed checkpoints, exportable and verifiable offline."""
