"""The shared data model and the blob store of encrypted envelopes."""
