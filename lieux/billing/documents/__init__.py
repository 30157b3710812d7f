"""The documents handed to buyers: the PDF/A-3 invoice with its Factur-X (EN 16931) XML embedded.

`facts` gathers what both renderings say, `facturx_xml` writes the structured XML, `pdf` the page that
people read; `lieux.billing.services.delivery` stores the result once and e-mails it."""
