//! Packet capture (placeholder)
