"""Cedar schema and policies, and the adapter that turns them into decisions and masks."""
