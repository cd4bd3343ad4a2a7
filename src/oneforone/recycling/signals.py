from django.dispatch import Signal

# Sent inside the treatment action's transaction with `completion` and `actor`; the registry
# issues the batch of units in that same transaction, so treatment and issuance commit together.
treatment_completed = Signal()
