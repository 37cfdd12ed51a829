package prevalidate

// custom checks a custom section: its name, the total size of custom
// sections and, for the "name" section, the counts wazero allocates by.
func (c *checker) custom(r *reader) error {
	if c.customCount++; c.customCount > c.lim.customSections {
		return c.tooMany("CustomSections", c.customCount, c.lim.customSections, r.where)
	}
	size := uint64(len(r.b) - r.p)
	if c.customSize += size; c.customSize > c.lim.customBytes {
		return c.tooMany("CustomBytes", c.customSize, c.lim.customBytes, r.where)
	}
	at := r.p
	n, err := r.skipBytes("custom section name")
	if err != nil {
		return err
	}
	if n == 4 && string(r.b[r.p-4:r.p]) == "name" {
		if c.hasName {
			return r.errorf(at, "second name section")
		}
		c.hasName = true
		r.where = "name section"
		return c.names(r)
	}
	r.p = len(r.b)
	return nil
}

// Name subsections wazero decodes; it skips the others.
const (
	nameModule    = 0
	nameFunctions = 1
	nameLocals    = 2
)

// names checks the name section. wazero v1.12 decodes the module, function
// and local names subsections by reading entries from the module (not from
// the subsection, whose size it ignores) into slices allocated with the
// declared counts: a count of 2^32-1 is a 96 GiB allocation, which kills
// the process. So every count is checked against the limits and against the
// bytes left in its subsection, and the entries must fill each subsection
// exactly, so that wazero reads what Check read.
func (c *checker) names(r *reader) error {
	sectionEnd := len(r.b)
	var localNames uint64
	for r.p < sectionEnd {
		id := r.b[r.p]
		r.p++
		at := r.p
		size, err := r.u32("name subsection size")
		if err != nil {
			return err
		}
		if uint64(size) > uint64(sectionEnd-r.p) {
			return r.errorf(at, "name subsection %d of %d bytes runs past the end of the section", id, size)
		}
		end := r.p + int(size)
		sub := &reader{b: r.b[:end], p: r.p, where: r.where}
		switch id {
		case nameModule:
			_, err = sub.skipBytes("module name")
		case nameFunctions:
			// index and name length: at least two bytes an entry
			var n uint32
			if n, err = sub.count("function name", "Functions", 0, c.lim.functions, 2); err != nil {
				break
			}
			for i := uint32(0); i < n && err == nil; i++ {
				if _, err = sub.u32("function index"); err == nil {
					_, err = sub.skipBytes("function name")
				}
			}
		case nameLocals:
			// function index and local count: at least two bytes each
			var n uint32
			if n, err = sub.count("local names function", "Functions", 0, c.lim.functions, 2); err != nil {
				break
			}
			for i := uint32(0); i < n && err == nil; i++ {
				if _, err = sub.u32("function index"); err != nil {
					break
				}
				var m uint32
				if m, err = sub.count("local name", "TotalLocals", localNames, c.lim.totalLocals, 2); err != nil {
					break
				}
				localNames += uint64(m)
				for j := uint32(0); j < m && err == nil; j++ {
					if _, err = sub.u32("local index"); err == nil {
						_, err = sub.skipBytes("local name")
					}
				}
			}
		default:
			sub.p = end
		}
		if err == nil {
			err = sub.done()
		}
		if err != nil {
			return err
		}
		r.p = end
	}
	return nil
}
