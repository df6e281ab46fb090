"""Delivery adapters: each sends a `Notification` over one channel, behind the `Sender` protocol."""

from services.notify.adapters.channels import DeliveryError, DeliveryFailure, Sender

__all__ = ["DeliveryError", "DeliveryFailure", "Sender"]
