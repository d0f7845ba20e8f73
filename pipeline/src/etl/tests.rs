//! Behaviour tests of the transform (filled below).
