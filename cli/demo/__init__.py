"""`kaiku demo`: a small review site about two competing hotel chains, crawled, scored, stored and served."""
