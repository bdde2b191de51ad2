"""The caseworker app's blueprints, one module per area."""
