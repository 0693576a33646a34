package membership

import "slices"

// Reachability turns membership events into what a coordinator needs: for
// each participant id, the gRPC address to dial while it is alive, and
// notice when it is gone. Feed it every event, in order (Node delivers
// them so: pass r.Observe to Start); it calls
//
//   - OnAlive(id, addr) when participant id becomes reachable, or its
//     address changes;
//   - OnDead(id) when it stops being reachable (left, failed, or no longer
//     claims that id).
//
// Calls alternate per id, starting with OnAlive, except that OnAlive may
// repeat with a new address. Coordinators and members with unreadable
// metadata are ignored.
//
// If two live nodes claim the same id (a misconfiguration, or a replacement
// started before the old node was declared failed), the one heard from
// last is dialled; when it goes, the other takes over, again with OnAlive.
//
// Reachability does no I/O and keeps no clock, so it is tested event by
// event. It is not safe for concurrent use, and the callbacks must not call
// back into it.
type Reachability struct {
	OnAlive func(id uint16, grpcAddr string)
	OnDead  func(id uint16)

	claims   map[uint16][]claim // live claimants per id, the one in force last
	claimed  map[string]uint16  // node name -> id it claims
	reported map[uint16]string  // id -> address last passed to OnAlive
}

type claim struct {
	name, addr string
}

// Observe applies one event.
func (r *Reachability) Observe(ev Event) {
	if r.claims == nil {
		r.claims = make(map[uint16][]claim)
		r.claimed = make(map[string]uint16)
		r.reported = make(map[uint16]string)
	}
	name := ev.Member.Meta.Name
	m := ev.Member.Meta
	claims := ev.Member.Alive && m.Role == RoleParticipant && m.ParticipantID != 0
	// Whatever this event says, the node's earlier claim no longer holds.
	if old, ok := r.claimed[name]; ok {
		delete(r.claimed, name)
		r.claims[old] = slices.DeleteFunc(r.claims[old], func(c claim) bool { return c.name == name })
		if !claims || old != m.ParticipantID {
			r.report(old)
		}
	}
	if claims {
		r.claimed[name] = m.ParticipantID
		r.claims[m.ParticipantID] = append(r.claims[m.ParticipantID], claim{name: name, addr: m.GRPCAddr})
		r.report(m.ParticipantID)
	}
}

// Lookup returns the address of participant id and whether it is reachable.
func (r *Reachability) Lookup(id uint16) (grpcAddr string, ok bool) {
	grpcAddr, ok = r.reported[id]
	return grpcAddr, ok
}

// report brings the callbacks' view of id in line with the claims.
func (r *Reachability) report(id uint16) {
	cs := r.claims[id]
	prev, wasAlive := r.reported[id]
	if len(cs) == 0 {
		delete(r.claims, id)
		if wasAlive {
			delete(r.reported, id)
			if r.OnDead != nil {
				r.OnDead(id)
			}
		}
		return
	}
	addr := cs[len(cs)-1].addr
	if wasAlive && prev == addr {
		return
	}
	r.reported[id] = addr
	if r.OnAlive != nil {
		r.OnAlive(id, addr)
	}
}
