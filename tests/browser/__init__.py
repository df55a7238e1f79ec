"""Real-browser tests: headless Debian Chromium driven by Playwright against a live server."""
