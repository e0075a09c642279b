"""User support: tickets with a thread, the facts an agent needs, and agent actions.

``csms.domain.support.SupportService`` (``core.support``) is the entry point; the modules here
each hold one part of it:

* :mod:`workflow`: categories, statuses and the transitions allowed between them;
* :mod:`model`: a ticket, a thread entry, and the errors the service raises;
* :mod:`tickets`: the two tables (tickets and their threads), read and written;
* :mod:`facts`: the facts gathered for a ticket (station state, connector history, unlock
  attempts, token verdict, metering flags, cost and payment);
* :mod:`actions`: what an agent does about a ticket (unlock, stop, restart, refund);
* :mod:`agent_view`: one driver's sessions, payments, tickets and stations, for an agent.
"""
