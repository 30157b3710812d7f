"""Clearing between venues (compensation entre lieux): each month the visits that members of one venue made
at another are counted into a matrix, valued with the key the network voted, netted multilaterally, and
settled by a statement per month and the few inter-venue invoices still needed."""
