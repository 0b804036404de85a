"""The emulated entity sets as data: which sets exist (:data:`SETS`: entity type, AOT entity, stored
table, label, flags) and their property lists, as compact ``Name:Type`` text (keys first, then
$metadata order). :mod:`p2c_sandbox.fno.entities` builds the typed sets from both.

The CDS*, invoice, product, contact and customer-group lists are copied verbatim from FNO.md §2.8
(the S9 2025 ``$metadata``). CustomersV3 is a documented working subset (about 100 of its ~305
properties: every one FNO.md §2.2 names plus the address and electronic-address families); the
lookup entities carry a small plausible subset. Types: ``S`` Edm.String, ``Dec`` Edm.Decimal,
``I32``/``I64`` Edm.Int32/Int64, ``DTO`` Edm.DateTimeOffset (a date-only field unless named in
:data:`UTC_DATETIME`), anything else an enum type of ``Microsoft.Dynamics.DataEntities``.

Example::

    >>> keys, props = SPECS["CustomerGroups"]
    >>> keys
    'dataAreaId:S CustomerGroupId:S'
"""

from __future__ import annotations

from typing import Any

__all__ = ["CUSTOMER_V3_ONLY", "SETS", "SPECS", "UTC_DATETIME"]

# DateTimeOffset properties backed by an X++ utcdatetime (full timestamp, empty = 1900-01-01T00:00:00Z);
# every other DateTimeOffset is an X++ date written at noon UTC (FNO.md §1.5).
UTC_DATETIME = frozenset(
    {
        "OrderCreationDateTime",
        "InvoiceValidFrom",
        "InvoiceValidTo",
        "DeliveryValidFrom",
        "DeliveryValidTo",
        "AddressValidFrom",
        "AddressValidTo",
    }
)

# Properties of the CustomersV3 subset that CustomersV2 lacks (FNO.md §2.2: "V3 only").
CUSTOMER_V3_ONLY = frozenset(
    {"AddressStreetNumber", "DeliveryAddressStreetNumber", "InvoiceAddressStreetNumber"}
)

_CUSTOMER = (
    "PartyType:S PartyNumber:S OrganizationName:S NameAlias:S KnownAs:S PersonFirstName:S PersonMiddleName:S "
    "PersonLastName:S PersonGender:Gender CustomerGroupId:S SalesCurrencyCode:S PaymentTerms:S PaymentMethod:S "
    "PaymentSchedule:S PaymentDay:S CreditLimit:Dec CreditLimitIsMandatory:NoYes OnHoldStatus:CustVendorBlocked "
    "SalesTaxGroup:S InvoiceAccount:S InvoiceAddress:InvoiceOrderAccount DeliveryMode:S DeliveryTerms:S "
    "LanguageId:S SiteId:S WarehouseId:S SalesMemo:S IsOneTimeCustomer:NoYes ContactPersonId:S VendorAccount:S "
    "TaxExemptNumber:S IdentificationNumber:S IsExternallyMaintained:NoYes DiscountPriceGroupId:S "
    "LineDiscountCode:S TotalDiscountCode:S MultilineDiscountCode:S CommissionSalesGroupId:S SalesDistrict:S "
    "SalesSegmentId:S LineOfBusinessId:S EmployeeResponsibleNumber:S DefaultDimensionDisplayValue:S "
    "AddressBooks:S AddressLocationId:S AddressDescription:S AddressLocationRoles:S AddressCountryRegionId:S "
    "AddressCountryRegionISOCode:S AddressZipCode:S AddressState:S AddressCounty:S AddressCity:S "
    "AddressDistrictName:S AddressStreet:S AddressStreetNumber:S AddressPostBox:S AddressBuildingCompliment:S "
    "AddressLatitude:Dec AddressLongitude:Dec AddressTimeZone:Timezone AddressValidFrom:DTO AddressValidTo:DTO "
    "FullPrimaryAddress:S DeliveryAddressDescription:S DeliveryAddressName:S DeliveryAddressLocationId:S "
    "DeliveryAddressCountryRegionId:S DeliveryAddressCountryRegionISOCode:S DeliveryAddressZipCode:S "
    "DeliveryAddressState:S DeliveryAddressCounty:S DeliveryAddressCity:S DeliveryAddressStreet:S "
    "DeliveryAddressStreetNumber:S InvoiceAddressCountryRegionId:S InvoiceAddressCountryRegionISOCode:S "
    "InvoiceAddressZipCode:S InvoiceAddressState:S InvoiceAddressCounty:S InvoiceAddressCity:S "
    "InvoiceAddressStreet:S InvoiceAddressStreetNumber:S PrimaryContactEmail:S PrimaryContactEmailDescription:S "
    "PrimaryContactEmailPurpose:S PrimaryContactPhone:S PrimaryContactPhoneExtension:S "
    "PrimaryContactPhoneDescription:S PrimaryContactPhoneIsMobile:NoYes PrimaryContactPhonePurpose:S "
    "PrimaryContactFax:S PrimaryContactFaxExtension:S PrimaryContactFaxDescription:S PrimaryContactFaxPurpose:S "
    "PrimaryContactURL:S PrimaryContactURLDescription:S PrimaryContactURLPurpose:S PrimaryContactTwitter:S "
    "PrimaryContactTwitterDescription:S PrimaryContactFacebook:S PrimaryContactFacebookDescription:S "
    "PrimaryContactLinkedIn:S PrimaryContactLinkedInDescription:S"
)

# set name -> (key properties, other properties)
SPECS: dict[str, tuple[str, str]] = {
    "CustomersV3": ("dataAreaId:S CustomerAccount:S", _CUSTOMER),
    "CDSSalesOrderHeaders": (
        "dataAreaId:S SalesOrderNumber:S",
        "DeliveryPostalAddressRecId:I64 OrderTotalTaxAmount:Dec SalesOrderName:S DeliveryAddressLocationId:S "
        "DeliveryAddressCountyId:S DeliveryAddressCountryRegionISOCode:S InvoiceAddressStateId:S "
        "SalesOrderPromisingMethod:SalesDeliveryDateControlType InvoiceBuildingCompliment:S "
        "InvoiceAddressCountryRegionId:S CustomersOrderReference:S InvoiceAddressLatitude:Dec "
        "FormattedInvoiceAddress:S DeliveryAddressZipCode:S ConfirmedShippingDate:DTO "
        "RequestedReceiptDate:DTO InvoiceAddressStreet:S SalesTaker:I64 FormattedDelveryAddress:S "
        "DeliveryAddressDistrictName:S SalesOrderProcessingStatus:SalesOrderProcessingStatus "
        "DeliveryAddressDunsNumber:S InvoiceAddressTimeZone:Timezone OrderTotalChargesAmount:Dec "
        "PaymentTermsName:S OrderTakerPersonnelNumber:S CashDiscountCode:S InvoiceCustomerAccountNumber:S "
        "SalesOrderStatus:SalesStatus SalesResponsible:I64 InvoiceAddressCountyId:S "
        "InvoiceAddressDistrictName:S InvoiceValidFrom:DTO IsInvoiceAddressPrivate:NoYes "
        "OrderCreationDateTime:DTO PriceCustomerGroupCode:S InvoiceAddressCity:S "
        "ExternalWorkOrderStatus:SalesExternalWorkOrderStatus InvoiceAddressCountryRegionISOCode:S "
        "DeliveryValidTo:DTO DeliveryAddressStreet:S PaymentTermsBaseDate:DTO IsDeliveryAddressPrivate:NoYes "
        "DeliveryAddressCity:S InvoiceAddressLongitude:Dec DeliveryTermsCode:S IsOneTimeCustomer:NoYes "
        "DeliveryAddressCountryRegionId:S DeliveryBuildingCompliment:S OrderTotalAmount:Dec URL:S "
        "InvoiceValidTo:DTO DeliveryAddressPostBox:S DeliveryAddressDescription:S RequestedShippingDate:DTO "
        "DefaultShippingWarehouseId:S InvoiceAddressZipCode:S TotalDiscountAmount:Dec "
        "ArePricesIncludingSalesTax:NoYes DeliveryAddressLatitude:Dec ProjectId:S CustomerRequisitionNumber:S "
        "DeliveryAddressTimeZone:Timezone AreTotalsUpdated:NoYes OrderingCustomerAccountNumber:S "
        "DeliveryModeCode:S IsSalesProcessingStopped:NoYes InvoiceAddressPostBox:S SalesOrderOriginCode:S "
        "OrderResponsiblePersonnelNumber:S DeliveryAddressName:S ConfirmedReceiptDate:DTO LanguageId:S "
        "InvoiceCustomerIsExternallyMaintained:NoYes DeliveryAddressStateId:S "
        "SalesOrderOriginType:SalesOriginType OrderHeaderTaxAmount:Dec "
        "OrderingCustomerIsExternallyMaintained:NoYes OrderTotalDiscountAmount:Dec DeliveryValidFrom:DTO "
        "DefaultShippingSiteId:S DeliveryAddressStreetNumber:S QuotationNumber:S CurrencyCode:S "
        "DeliveryAddressLongitude:Dec InvoiceAddressStreetNumber:S IsDeliveryAddressOrderSpecific:NoYes "
        "ContactPersonId:S Email:S SkipGlobalUnifiedPricingCalculation:NoYes",
    ),
    "CDSSalesOrderLines": (
        "dataAreaId:S SalesOrderNumber:S LineCreationSequenceNumber:I32",
        "AreTotalsCalculated:NoYes SalesUnitSymbol:S AllowedUnderdeliveryPercentage:Dec "
        "OrderedInventoryStatusId:S ShippingSiteId:S AreSalesOrderTotalsUpdated:NoYes "
        "DeliveryAddressLocationId:S DeliveryAddressCountyId:S DeliveryAddressCountryRegionISOCode:S "
        "SalesOrderPromisingMethod:SalesDeliveryDateControlType MultilineDiscountAmount:Dec "
        "LineDiscountAmount:Dec DeliveryTermsId:S LineDescription:S SalesDeliverNow:Dec "
        "DeliveryAddressZipCode:S ConfirmedShippingDate:DTO ShippingWarehouseId:S RequestedReceiptDate:DTO "
        "SalesProductCategoryHierarchyName:S OrderedSalesQuantity:Dec DeliveryAddressDistrictName:S "
        "SalesOrderProcessingStatus:SalesOrderProcessingStatus PickedQuantity:Dec DeliveryAddressDunsNumber:S "
        "LineAmount:Dec SalesPriceQuantity:Dec LineDiscountPercentage:Dec TotalTaxAmount:Dec "
        "FixedPriceCharges:Dec SalesPrice:Dec ProductName:S DeliveryAddressStreet:S "
        "IsDeliveryAddressPrivate:NoYes DeliveryAddressCity:S MultilineDiscountPercentage:Dec "
        "IsLineStopped:NoYes SalesOrderLineStatus:SalesStatus TotalChargesAmount:Dec "
        "DeliveryAddressCountryRegionId:S DeliveryBuildingCompliment:S DeliveryAddressPostBox:S "
        "DeliveryAddressDescription:S ProductNumber:S RequestedShippingDate:DTO SalesProductCategoryName:S "
        "TotalDiscountAmount:Dec DeliveryAddressLatitude:Dec ProjectId:S AllowedOverdeliveryPercentage:Dec "
        "DeliveryAddressTimeZone:Timezone DeliveryModeCode:S FormattedDeliveryAddress:S ExternalItemNumber:S "
        "ItemBatchNumber:S DeliveryAddressName:S ConfirmedReceiptDate:DTO ProjectCategoryId:S "
        "SalesOrderNumberHeader:S InvoiceCustomerIsExternallyMaintained:NoYes DeliveryAddressStateId:S "
        "SalesOrderOriginType:SalesOriginType ProjectLinePropertyId:S "
        "OrderingCustomerIsExternallyMaintained:NoYes DeliveryAddressStreetNumber:S CurrencyCode:S "
        "DeliveryAddressLongitude:Dec IsDeliveryAddressOrderSpecific:NoYes",
    ),
    "CDSSalesQuotationHeaders": (
        "dataAreaId:S SalesQuotationNumber:S",
        "InvoiceAddressStreet:S SalesQuotationName:S Email:S DefaultShippingSiteId:S "
        "DeliveryAddressDescription:S IsInvoiceAddressPrivate:NoYes QuotationResponsiblePersonnelNumber:S "
        "GeneratedSalesOrderNumber:S SalesOrderOriginCode:S InvoiceAddressLatitude:Dec "
        "CashDiscountPercentage:Dec DeliveryAddressCountryRegionId:S DeliveryAddressLatitude:Dec "
        "DeliveryAddressCity:S RequestingCustomerAccountNumber:S "
        "SalesOrderPromisingMethod:SalesDeliveryDateControlType TotalDiscountPercentage:Dec "
        "DeliveryAddressDistrictName:S DeliveryAddressCountyId:S DeliveryAddressZipCode:S "
        "SalesQuotationExpiryDate:DTO LanguageId:S DeliveryAddressDunsNumber:S InvoiceAddressStateId:S "
        "SalesQuotationFollowUpDate:DTO DeliveryAddressName:S QuotationTotalTaxAmount:Dec "
        "InvoiceAddressCountryRegionId:S DeliveryAddressStreetNumber:S InvoiceAddressStreetNumber:S "
        "IsDeliveryAddressPrivate:NoYes AreTotalsCalculated:NoYes TotalDiscountAmount:Dec "
        "FormattedInvoiceAddress:S DeliveryAddressCountryRegionISOCode:S CashDiscountCode:S "
        "InvoiceAddressCountryRegionISOCode:S URL:S CurrencyCode:S ArePricesIncludingSalesTax:NoYes "
        "InvoiceCustomerAccountNumber:S DeliveryAddressLocationId:S QuotationTotalDiscountAmount:Dec "
        "ReceiptDateRequested:DTO ProspectId:S DeliveryAddressStreet:S DeliveryModeCode:S "
        "IsDeliveryAddressOrderSpecific:NoYes CustomerRequisitionNumber:S InvoiceAddressLongitude:Dec "
        "InvoiceAddressCity:S InvoiceAddressPostBox:S ContactPersonId:S InvoiceAddressDistrictName:S "
        "SalesQuotationStatus:SalesQuotationStatus QuotationTotalAmount:Dec QuotationHeaderTaxAmount:Dec "
        "PaymentTermsName:S DeliveryAddressLongitude:Dec InvoiceAddressZipCode:S DeliveryTermsCode:S "
        "DeliveryAddressTimeZone:Timezone DefaultShippingWarehouseId:S QuotationTakerPersonnelNumber:S "
        "DeliveryAddressStateId:S SalesQuotationHeaderCreationMethod:SalesQuotationCreationMethod "
        "DeliveryBuildingCompliment:S CustomersReference:S DeliveryAddressPostBox:S "
        "InvoiceAddressTimeZone:Timezone OpportunityId:S InvoiceAddressCountyId:S "
        "QuotationTotalChargesAmount:Dec SalesQuotationConfirmationDate:DTO InvoiceBuildingCompliment:S "
        "PriceCustomerGroupCode:S RequestedShippingDate:DTO OperatingUnitPartyNumber:S "
        "FormattedDeliveryAddress:S SkipGlobalUnifiedPricingCalculation:NoYes",
    ),
    "CDSSalesQuotationLines": (
        "dataAreaId:S LineCreationSequenceNumber:I32 SalesQuotationNumber:S",
        "DeliveryPostalAddressRecId:I64 SalesUnitSymbol:S AreTotalsCalculated:NoYes "
        "AllowedUnderdeliveryPercentage:Dec ShippingSiteId:S DeliveryAddressLocationId:S "
        "DeliveryAddressCountyId:S DeliveryAddressCountryRegionISOCode:S MultilineDiscountAmount:Dec "
        "LineDiscountAmount:Dec DeliveryTermsId:S LineDescription:S DeliveryAddressZipCode:S "
        "ShippingWarehouseId:S RequestedReceiptDate:DTO SalesProductCategoryHierarchyName:S "
        "DeliveryAddressDistrictName:S DeliveryAddressDunsNumber:S LineAmount:Dec SalesPriceQuantity:Dec "
        "LineDiscountPercentage:Dec TotalTaxAmount:Dec FixedPriceCharges:Dec SalesPrice:Dec "
        "SalesQuotationLineCreationMethod:SalesQuotationCreationMethod ProductName:S InventoryLotId:S "
        "DeliveryAddressStreet:S IsDeliveryAddressPrivate:NoYes DeliveryAddressCity:S "
        "MultilineDiscountPercentage:Dec TotalChargesAmount:Dec DeliveryAddressCountryRegionId:S "
        "DeliveryBuildingCompliment:S DeliveryAddressPostBox:S DeliveryAddressDescription:S ProductNumber:S "
        "SalesQuotationStatus:SalesQuotationStatus RequestedShippingDate:DTO SalesProductCategoryName:S "
        "TotalDiscountAmount:Dec DeliveryAddressLatitude:Dec AllowedOverdeliveryPercentage:Dec "
        "DeliveryAddressTimeZone:Timezone DeliveryModeCode:S FormattedDeliveryAddress:S ExternalItemNumber:S "
        "ItemBatchNumber:S DeliveryAddressName:S RequestedInventoryStatusId:S DeliveryAddressStateId:S "
        "SalesQuotationPromisingMethod:SalesDeliveryDateControlType DeliveryAddressStreetNumber:S "
        "RequestedSalesQuantity:Dec CurrencyCode:S DeliveryAddressLongitude:Dec "
        "IsDeliveryAddressOrderSpecific:NoYes",
    ),
    "ExternallyMaintainedCustomerSalesInvoiceHeaders": (
        "dataAreaId:S InvoiceNumber:S InvoiceDate:DTO LedgerVoucher:S",
        "InvoiceAddressCountryRegionISOCode:S InvoiceAddressZipCode:S TotalTaxAmount:Dec "
        "InvoiceAddressStreetNumber:S TotalDiscountCustomerGroupCode:Dec InvoiceAddressStreet:S "
        "TotalChargeAmount:Dec TotalDiscountAmount:Dec CurrencyCode:S SalesOrderNumber:S DeliveryTermsCode:S "
        "SalesOrderOriginType:SalesOriginType ContactPersonId:S SalesOrderResponsiblePersonnelNumber:S "
        "PaymentTermsName:S DeliveryModeCode:S InvoiceCustomerAccountNumber:S InvoiceAddressCity:S "
        "InvoiceHeaderTaxAmount:Dec InvoiceAddressState:S InvoiceAddressCountryRegionId:S "
        "CustomersOrderReference:S TotalInvoiceAmount:Dec",
    ),
    "ExternallyMaintainedCustomerSalesInvoiceLines": (
        "dataAreaId:S InvoiceNumber:S InvoiceDate:DTO LineCreationSequenceNumber:I32 LedgerVoucher:S",
        "InvoicedQuantity:Dec CurrencyCode:S LineTotalDiscountAmount:Dec ProductDescription:S "
        "LineTotalTaxAmount:Dec ProductName:S LineTotalChargeAmount:Dec SalesUnitSymbol:S ProductNumber:S "
        "ConfirmedShippingDate:DTO SalesPrice:Dec LineAmount:Dec",
    ),
    "SellableReleasedProducts": (
        "dataAreaId:S ProductNumber:S",
        "ProductType:EcoResProductType InventoryUnitSymbol:S InventoryUnitDecimalPrecision:I32 CurrencyCode:S "
        "SalesPrice:Dec IsSalesStopped:NoYes SalesUnitDecimalPrecision:I32 "
        "FieldServiceProductType:EcoResFieldServiceProductType UnitCost:Dec SalesUnitSymbol:S "
        "ProductDescription:S ProductName:S IsStockedProduct:NoYes",
    ),
    "CDSContactPersons": (
        "dataAreaId:S ContactPersonPartyNumber:S AssociatedPartyNumber:S",
        "PrimaryURL:S PrimaryAddressDescription:S Gender:Gender BirthYear:I32 PrimaryFaxNumber:S "
        "PrimaryAddressCountryRegionId:S PrimaryAddressStreet:S PrimaryAddressCity:S LastName:S "
        "GovernmentIdentificationNumber:S PrimaryTwitter:S PrimaryAddressStateId:S SpouseName:S "
        "PrimaryLinkedIn:S IsContactPersonExternallyMaintained:NoYes PrimaryAddressZipCode:S "
        "IsReceivingDirectMail:NoYes EmploymentProfession:S EmploymentDepartment:S PrimaryPhoneNumber:S "
        "ContactPersonPartyType:S MaritalStatus:DirPersonMaritalStatus PrimaryAddressLocationRoles:S "
        "BirthMonth:MonthsOfYear BirthDay:I32 PrimaryEmailAddress:S PrimaryFacebook:S Notes:S "
        "PrimaryAddressStreetNumber:S IsInactive:NoYes DecisionMakingRoleCode:S MiddleName:S "
        "PrimaryAddressCountyId:S ContactPersonResponsiblePersonnelNumber:S FirstName:S "
        "PrimaryAddressCountryRegionISOCode:S",
    ),
    "CDSContactPersonsV2": (
        "dataAreaId:S ContactPersonPartyNumber:S AssociatedContactType:SmmContactPersonCdsAssociatedContactType AssociatedContactNumber:S",
        "PrimaryURL:S PrimaryAddressDescription:S Gender:Gender ContactPersonId:S BirthYear:I32 "
        "PrimaryFaxNumber:S PrimaryAddressCountryRegionId:S PrimaryAddressStreet:S PrimaryAddressCity:S "
        "GovernmentIdentificationNumber:S LastName:S PrimaryTwitter:S PrimaryAddressStateId:S SpouseName:S "
        "PrimaryLinkedIn:S IsContactPersonExternallyMaintained:NoYes IsReceivingDirectMail:NoYes "
        "PrimaryAddressZipCode:S EmploymentProfession:S EmploymentDepartment:S PrimaryPhoneNumber:S "
        "ContactPersonPartyType:S MaritalStatus:DirPersonMaritalStatus PrimaryAddressLocationRoles:S "
        "BirthDay:I32 BirthMonth:MonthsOfYear PrimaryEmailAddress:S PrimaryFacebook:S Notes:S "
        "PrimaryAddressStreetNumber:S IsInactive:NoYes DecisionMakingRoleCode:S MiddleName:S "
        "PrimaryAddressCountyId:S ContactPersonResponsiblePersonnelNumber:S FirstName:S "
        "PrimaryAddressCountryRegionISOCode:S",
    ),
    "CustomerGroups": (
        "dataAreaId:S CustomerGroupId:S",
        "ClearingPeriodPaymentTermName:S DefaultDimensionDisplayValue:S CustomerAccountNumberSequence:S "
        "AccountingCurrencyExchangeRateType:S IsSalesTaxIncludedInPrice:NoYes Description:S WriteOffReason:S "
        "ReportingCurrencyExchangeRateType:S PaymentTermId:S TaxGroupId:S IsPublicSector_IT:NoYes",
    ),
    "PaymentTerms": (
        "dataAreaId:S Name:S",
        "Description:S NumberOfDays:I32 NumberOfMonths:I32 PaymentMethodType:S CashDiscountCode:S "
        "IsCashPayment:NoYes DefaultPaymentDayName:S",
    ),
    "UnitsOfMeasure": (
        "UnitSymbol:S",
        "UnitDescription:S UnitClass:S DecimalPrecision:I32 IsSystemUnit:NoYes SystemOfUnits:S",
    ),
    "OperationalSites": (
        "dataAreaId:S SiteId:S",
        "SiteName:S DefaultDimensionDisplayValue:S PrimaryAddressCity:S PrimaryAddressCountryRegionId:S",
    ),
    "Warehouses": (
        "dataAreaId:S WarehouseId:S",
        "WarehouseName:S OperationalSiteId:S WarehouseType:InventLocationType PrimaryAddressCity:S",
    ),
    "Currencies": (
        "CurrencyCode:S",
        "Name:S Symbol:S GeneralRoundingRule:Dec ReferenceCurrencyForTriangulation:NoYes",
    ),
    "LegalEntities": (
        "LegalEntityId:S",
        "Name:S AddressCountryRegionId:S LanguageId:S",
    ),
}


# (set, entity type, AOT entity, stored table, table label for Infolog texts, flags)
SETS: list[tuple[str, str, str, str, str, dict[str, Any]]] = [
    ("CustomersV3", "CustomerV3", "CustCustomerV3Entity", "CustTable", "Customers (CustTable)", {}),
    (
        "CustomersV2",
        "CustomerV2",
        "CustCustomerV2Entity",
        "CustTable",
        "Customers (CustTable)",
        {"spec": "CustomersV3", "drop": CUSTOMER_V3_ONLY},
    ),
    (
        "CDSContactPersons",
        "CDSContactPerson",
        "smmContactPersonCDSEntity",
        "ContactPerson",
        "Contact persons (ContactPerson)",
        {},
    ),
    (
        "CDSContactPersonsV2",
        "CDSContactPersonV2",
        "smmContactPersonCDSV2Entity",
        "ContactPerson",
        "Contact persons (ContactPerson)",
        {},
    ),
    (
        "SellableReleasedProducts",
        "SellableReleasedProduct",
        "EcoResSellableReleasedProductEntity",
        "InventTable",
        "Released products (InventTable)",
        {"read_only": True, "view": "sellable"},
    ),
    (
        "CDSSalesQuotationHeaders",
        "CDSSalesQuotationHeader",
        "SalesQuotationHeaderCDSEntity",
        "SalesQuotationTable",
        "Quotations (SalesQuotationTable)",
        {},
    ),
    (
        "CDSSalesQuotationLines",
        "CDSSalesQuotationLine",
        "SalesQuotationLineCDSEntity",
        "SalesQuotationLine",
        "Quotation lines (SalesQuotationLine)",
        {},
    ),
    (
        "CDSSalesOrderHeaders",
        "CDSSalesOrderHeader",
        "SalesOrderHeaderCDSEntity",
        "SalesTable",
        "Sales orders (SalesTable)",
        {},
    ),
    (
        "CDSSalesOrderLines",
        "CDSSalesOrderLine",
        "SalesOrderLineCDSEntity",
        "SalesLine",
        "Order lines (SalesLine)",
        {},
    ),
    (
        "CDSSalesOrderLinesV2",
        "CDSSalesOrderLineV2",
        "SalesOrderLineCDSV2Entity",
        "SalesLine",
        "Order lines (SalesLine)",
        {
            "spec": "CDSSalesOrderLines",
            "extra": "DefaultLineNumberFromLineCreationSequenceNumber:Dec InventoryServiceReservationId:S "
            "InventoryLotId:S",
        },
    ),
    (
        "ExternallyMaintainedCustomerSalesInvoiceHeaders",
        "ExternallyMaintainedCustomerSalesInvoiceHeader",
        "SalesExternallyMaintainedCustomerSalesInvoiceHeaderEntity",
        "CustInvoiceJour",
        "Customer invoice journal (CustInvoiceJour)",
        {"read_only": True, "view": "external_invoice"},
    ),
    (
        "ExternallyMaintainedCustomerSalesInvoiceLines",
        "ExternallyMaintainedCustomerSalesInvoiceLine",
        "SalesExternallyMaintainedCustomerSalesInvoiceLineEntity",
        "CustInvoiceTrans",
        "Customer invoice lines (CustInvoiceTrans)",
        {"read_only": True, "view": "external_invoice"},
    ),
    (
        "CustomerGroups",
        "CustomerGroup",
        "CustCustomerGroupEntity",
        "CustGroup",
        "Customer groups (CustGroup)",
        {},
    ),
    ("PaymentTerms", "PaymentTerm", "PaymentTermEntity", "PaymTerm", "Terms of payment (PaymTerm)", {}),
    (
        "UnitsOfMeasure",
        "UnitOfMeasure",
        "UnitOfMeasureEntity",
        "UnitOfMeasure",
        "Units (UnitOfMeasure)",
        {"company": False},
    ),
    (
        "OperationalSites",
        "OperationalSite",
        "InventOperationalSiteEntity",
        "InventSite",
        "Sites (InventSite)",
        {},
    ),
    ("Warehouses", "Warehouse", "InventWarehouseEntity", "InventLocation", "Warehouses (InventLocation)", {}),
    ("Currencies", "Currency", "CurrencyEntity", "Currency", "Currency (Currency)", {"company": False}),
    (
        "LegalEntities",
        "LegalEntity",
        "OMLegalEntity",
        "CompanyInfo",
        "Legal entities (CompanyInfo)",
        {"company": False, "read_only": True},
    ),
]
