"""The notification API: the caller's inbox and channel preferences, and staff views of delivery status."""
