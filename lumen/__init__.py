"""Lumen: shared configuration, command line and web helpers of both apps."""
