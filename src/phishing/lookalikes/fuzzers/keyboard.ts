/**
 * Keys next to each other on the three common layouts, for slips of the finger (replacement,
 * insertion). Rows are staggered: the keys above a key are at its column and the next, the keys
 * below at its column and the one before.
 */

const LAYOUTS: readonly (readonly string[])[] = [
  ["1234567890-", "qwertyuiop", "asdfghjkl", "zxcvbnm"], // QWERTY
  ["1234567890", "qwertzuiop", "asdfghjkl", "yxcvbnm"], // QWERTZ
  ["1234567890", "azertyuiop", "qsdfghjklm", "wxcvbn"], // AZERTY
];

function buildNeighbours(): Map<string, string[]> {
  const near = new Map<string, Set<string>>();
  const add = (key: string, other: string | undefined) => {
    if (!other || other === key) return;
    let set = near.get(key);
    if (!set) {
      set = new Set();
      near.set(key, set);
    }
    set.add(other);
  };
  for (const rows of LAYOUTS) {
    rows.forEach((row, r) => {
      [...row].forEach((key, c) => {
        add(key, row[c - 1]);
        add(key, row[c + 1]);
        const above = rows[r - 1];
        const below = rows[r + 1];
        if (above) {
          add(key, above[c]);
          add(key, above[c + 1]);
        }
        if (below) {
          add(key, below[c - 1]);
          add(key, below[c]);
        }
      });
    });
  }
  return new Map([...near].map(([k, v]) => [k, [...v].sort()]));
}

const NEIGHBOURS = buildNeighbours();

/** Keys adjacent to this one on QWERTY, QWERTZ or AZERTY. */
export function neighbours(key: string): readonly string[] {
  return NEIGHBOURS.get(key) ?? [];
}
