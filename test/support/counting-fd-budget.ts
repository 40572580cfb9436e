import type { FdBudget } from '../../src/wasi/fd-budget.js';

/** An fd budget that never refuses and counts: how many fds it holds now, and the most it held at once. */
export function countingFdBudget(): { budget: FdBudget; held: () => number; most: () => number } {
  let held = 0;
  let most = 0;
  const budget: FdBudget = {
    take: () => {
      held++;
      most = Math.max(most, held);
      return true;
    },
    force: () => {
      held++;
    },
    give: (n) => {
      held -= n;
    },
    get spent() {
      return false;
    },
  };
  return { budget, held: () => held, most: () => most };
}
