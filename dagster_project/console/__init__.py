"""The console for marketing ops: static pages of today's plan, what was held back, deliveries,
campaign results and journeys, built from the warehouse and served from a folder."""
