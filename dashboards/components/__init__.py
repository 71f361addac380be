"""Pure figure builders and small UI pieces shared by the pages."""
