//! Interaction data (being built).
