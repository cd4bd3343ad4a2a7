"""Signals the partners app sends; downstream apps (the registry) connect to them.

partners must not import the registry, so the registry learns of changes here through signals.
"""

from django.dispatch import Signal

# Sent by actions.resolve_conflict inside its transaction, after the devices and the
# registrations' devices_excluded are updated, and only when some registration now owes fewer
# units (a claim moved away by "transfer", or withdrawn by "reject"). Keyword arguments:
#   registrations: list[Registration]  the registrations whose units_owed went down, locked
#                                      (select_for_update) and carrying their new units_owed
#   actor: User                        the operator who resolved the conflict
#   reason: str                        the operator's reason, as recorded in the audit event
# sender is the Conflict model. A receiver runs in the same transaction: if it raises, the
# resolution is rolled back with it. The registry releases units allocated beyond what is owed.
claims_withdrawn = Signal()
