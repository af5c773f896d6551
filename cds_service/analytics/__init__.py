"""The analytics page for health IT: what clinicians did with the cards, as plots and tables."""
