"""Tables, engines, batch reads, repositories and migrations of the sales graph."""
