"""Use cases. No Flask imports: services take a session and explicit arguments, flush but
never commit, and raise :class:`survey.services.errors.DomainError` subclasses."""
