package dkg

// Transcript returns the transcript hash that every participant confirmed
// in round 4: it binds the ceremony's id and parameters, the group key,
// every public key share and the round-1 set. Participants that report the
// same transcript hold shares of the same group. It returns ErrNotFinished
// until the ceremony has succeeded, and the ceremony's error after a
// failure.
func (c *Ceremony) Transcript() ([]byte, error) {
	switch c.phase {
	case phaseDone:
		return append([]byte(nil), c.transcript[:]...), nil
	case phaseFailed:
		return nil, c.err
	}
	return nil, ErrNotFinished
}
