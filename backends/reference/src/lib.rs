//! `hyv-backend-reference`: a plain interpreter of every IR op.
