"""What to do about it (domain.md §4): playbooks, the budgeted retention plan with its
control group, win-back, what-if, and whether it worked."""
