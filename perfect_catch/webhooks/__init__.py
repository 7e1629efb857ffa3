"""The webhook receiver: what Twilio, SendGrid and GoHighLevel post back to the platform."""
