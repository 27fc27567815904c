//! Sandboxes (placeholder)
