"""The bundled demo: a small review site about two competing hotel chains, and `kaiku demo`."""
