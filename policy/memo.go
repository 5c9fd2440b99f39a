package policy

// Enforce's answers remembered (issue 7): casbin evaluates the matcher for
// every request, compiling KeyMatch2's regular expression each time, which was
// about 5 % of the CPU of the report intake API. The answer depends only on
// (subject, route pattern, method) and the rules loaded, and the loaded rules
// change only in Reload, which starts a new generation: an answer is used only
// in the generation it was computed in, so it is always the one Enforce would
// give now.

import "sync"

// memoMax bounds the answers remembered; when full, all are forgotten.
const memoMax = 10000

type memoKey struct{ sub, obj, act string }

type memo struct {
	mu      sync.Mutex
	gen     uint64
	answers map[memoKey]bool
}

func (m *memo) get(k memoKey) (allowed, ok bool, gen uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	allowed, ok = m.answers[k]
	return allowed, ok, m.gen
}

// put remembers an answer computed in generation gen, unless a Reload came
// in between.
func (m *memo) put(k memoKey, allowed bool, gen uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if gen != m.gen {
		return
	}
	if m.answers == nil || len(m.answers) >= memoMax {
		m.answers = make(map[memoKey]bool)
	}
	m.answers[k] = allowed
}

// forget starts a new generation.
func (m *memo) forget() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen++
	m.answers = nil
}
