"""Message contracts of SoSafe Referral Router: one module per message, frozen pydantic models."""
