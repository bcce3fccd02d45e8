"""The browser interface: the app shell, shared components, static assets."""
