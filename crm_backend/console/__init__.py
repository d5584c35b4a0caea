"""The agent console: live queue and conversation view (pages in web/), replies delivered to the
customer's chat through Rasa, and the hand-back when a ticket is done."""
