"""Real, decodable binary files for answers (PNG, WAV, MP3, ...), made with the standard library."""
